"""People doing the work: 我的待办 (the inbox), completing a task with its form and evidence, and
sign-off gates (谁签字谁负责): where a signature is decided, recorded and chained."""
