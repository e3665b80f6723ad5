"""Reports built from call records: the weekly report (one builder for the API route and the schedule)."""
