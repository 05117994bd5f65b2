"""The notice dispatcher: reminders and news of bookings, sent on each patient's channel in
their language (``dispatcher``), with what they say and the buttons under them (``words``)."""
