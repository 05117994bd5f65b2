"""The staff web console and its JSON API: schedules, bookings, blacklist, reports, audit."""
