"""People and their accounts: the directory of units, people and roles, password hashing, and
failed-login counting shared by login, sign-off and password change."""
