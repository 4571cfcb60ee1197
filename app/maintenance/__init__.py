"""Professional accounts (assistants and technicians) and their strong authentication.

Why a package of its own: the CNIL asks for strong (two-factor) authentication,
one identifier per person, differentiated authorisations and traces for every
professional who touches the kiosk. The pure rules (password policy, TOTP step
matching, lockout growth, the attempt decision, roles) live in small modules
that take values; `service.AccountService` is the one async edge that reads and
writes accounts through an `AccountRepository` and records the audit.
"""
