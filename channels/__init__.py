"""One module per outside party (Telegram, SMS, web chat, staff group, e-mail, FHIR).

Each only translates between its platform's payloads and neutral inbound/outbound messages.
"""
