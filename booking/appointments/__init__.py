"""Appointments (预约挂号): booking a place, cancelling and transferring, the waitlist,
attendance, reminders and change notices, and the registration desk's work."""
