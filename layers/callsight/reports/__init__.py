"""Reports built from call records, pure: the weekly report (one builder for the API route and the
schedule; storing and sending it is :mod:`callsight.sweeps.weekly_reports`)."""
