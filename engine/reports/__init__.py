"""What a round publishes and what leaders read: the dashboard's figures and the public progress
report (整改进展情况公布) as HTML and PDF. Reads only; never changes an item."""
