"""Closure records (销号单): what a record says, its PDF, the PAdES signature, the body's signing
certificate, and verifying a record someone hands back. A record is made after an item closes,
by the outbox handler for `ItemClosed` in `records`."""
