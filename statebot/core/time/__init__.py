"""Calendars, session schedules, bars and the bar clock (time is passed in)."""
