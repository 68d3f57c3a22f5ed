"""Wargame sessions.

The event-sourced session log, roles and their levers, bot doctrines, fog-of-war briefs, turn
reports, the outlook and join tokens.
"""
