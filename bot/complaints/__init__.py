"""The staff side of complaints: the staff group chats (``staff_chats``), complaints by e-mail
(``mail``), and the answers told back to patients (``answers``)."""
