"""Accounts: e-mail login, second factors (authenticator app, SMS, security key) and passwords."""
