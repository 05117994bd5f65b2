"""Domain errors. Each carries a machine-readable ``reason`` that the bot turns into a polite
sentence in the patient's language, and ``details`` that never hold personal data."""

from __future__ import annotations

from typing import Any, ClassVar


class BookingError(Exception):
    reason: ClassVar[str] = "booking_error"

    def __init__(self, message: str, **details: Any) -> None:
        super().__init__(message)
        self.message = message
        self.details = details

    def as_dict(self) -> dict[str, Any]:
        return {"reason": self.reason, "message": self.message, **self.details}


class NotFound(BookingError):
    reason = "not_found"


class InvalidInput(BookingError):
    reason = "invalid_input"


class InvalidIdNumber(InvalidInput):
    reason = "invalid_id_number"


class InvalidPhone(InvalidInput):
    reason = "invalid_phone"


class InvalidName(InvalidInput):
    reason = "invalid_name"


class SlotFull(BookingError):
    reason = "slot_full"


class PlaceTaken(BookingError):
    """The queue number asked for is taken or its time has passed; others may be free."""

    reason = "place_taken"


class SessionStopped(BookingError):
    reason = "session_stopped"


class NotBookable(BookingError):
    reason = "not_bookable"


class OutsideWindow(BookingError):
    reason = "outside_window"


class QuotaExceeded(BookingError):
    reason = "quota_exceeded"


class OutsideAgeRange(BookingError):
    """The department sees patients of certain ages only (儿科: children)."""

    reason = "age_range"


class AlreadyBooked(BookingError):
    reason = "already_booked"


class Blacklisted(BookingError):
    reason = "blacklisted"


class PastDeadline(BookingError):
    reason = "past_deadline"


class WrongStatus(BookingError):
    reason = "wrong_status"


class AccountFull(BookingError):
    reason = "account_full"


class NotYourBooking(BookingError):
    reason = "not_your_booking"


class DifferentDepartment(BookingError):
    reason = "different_department"


class TryAgain(BookingError):
    """The database could not finish the change (lost connection, deadlock, restart): nothing
    was saved, and the same request can be sent again."""

    reason = "try_again"


class BookingNumberTaken(TryAgain):
    """The random booking number drawn was already in use; the booking is tried again."""


class NeedsCode(BookingError):
    """This ID number belongs to a patient another account registered: only someone holding the
    registered phone may add it, by typing back a code sent there."""

    reason = "needs_code"


class RegisteredPhoneDiffers(BookingError):
    """The chat account proved a mobile number, but this ID number is registered with another
    one: only a code to the registered phone adds the patient. Raised only after a phone is
    proven, so that an ID number alone tells a stranger nothing (not the phone, not whether
    the name is right)."""

    reason = "registered_phone_differs"


class NeedsPhoneCode(BookingError):
    """The mobile number given for a patient is not proven yet: a code sent to it must be
    typed back before anything is stored (实名制: the phone is proven by an SMS code)."""

    reason = "needs_phone_code"
    # The number is a registered patient's: only the SMS, which reaches that phone alone,
    # warns its owner that another account is adding them. Kept out of `details`, which
    # may be shown to whoever typed the number.
    to_registered_phone: bool = False


class WrongCode(BookingError):
    reason = "wrong_code"


class CodeExpired(BookingError):
    reason = "code_expired"


class TooManyCodes(BookingError):
    """Codes to one phone number, and codes one account asks for, are limited by the hour and
    the day (booking.patients.sms_codes)."""

    reason = "code_limit"


class CodeTooSoon(BookingError):
    """A code went to this phone number less than a minute ago: "send again" waits."""

    reason = "code_too_soon"


class StillBooked(BookingError):
    """A patient cannot leave the account that booked for them while those bookings (or
    places in a waitlist) are still to come: their reminders and notices go to this account."""

    reason = "still_booked"


class NotFull(BookingError):
    """A waitlist is for full sessions: this one still has places to book."""

    reason = "not_full"


class AlreadyWaiting(BookingError):
    reason = "already_waiting"


class WaitlistClosed(BookingError):
    reason = "waitlist_closed"


class OfferGone(BookingError):
    """A waitlist offer that was taken, let go or has expired."""

    reason = "offer_gone"


class LoginRefused(BookingError):
    """A wrong username or password, a locked or a disabled account: one answer for all, so
    that it tells nobody which usernames exist."""

    reason = "login_refused"


class UsernameTaken(BookingError):
    reason = "username_taken"
