"""Télécabine kiosk application: the session controller and its subsystems."""
