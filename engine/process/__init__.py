"""The BPMN runtime: parsing and deploying process versions, designer validation, running and
saving instances (with history compaction), timers, who a lane's task goes to, and form schemas.
Nothing here knows what a ledger or a closure record is; it mirrors instances into our tables."""
