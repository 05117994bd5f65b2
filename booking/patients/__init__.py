"""Real-name patients (实名制): ID numbers and phones, registration, the chat accounts that
manage patients, their SMS codes, and the hospital's blacklist."""
