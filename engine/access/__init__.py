"""The service layer the web UI calls: each function loads what it acts on (404), checks the
signed-in user's right to it (403) and acts, in one database session per request."""
