"""What the channels and the web routes call. They are made with the web app, before the
application can be built (its build reads the database, inside the server's event loop);
while the application runs, the front hands every call to it."""

from __future__ import annotations

from datetime import datetime

from bot.runtime.application import Application
from bot.runtime.services import Services
from channels.email import Mail, MailReply
from channels.flood import FloodGate
from channels.messages import Inbound, Outbound
from channels.telegram import StaffCommand, StaffPress


class NotRunning(RuntimeError):
    def __init__(self) -> None:
        super().__init__("the application is not running")


class Front:
    """The one place where the running application is looked up."""

    def __init__(self) -> None:
        self._running: Application | None = None

    def attach(self, application: Application) -> None:
        self._running = application

    def detach(self) -> None:
        self._running = None

    @property
    def application(self) -> Application:
        if self._running is None:
            raise NotRunning
        return self._running

    def services(self) -> Services | None:
        """The back office's and the HIS API's database, clock and protector: none until
        the application runs."""
        return None if self._running is None else self._running.services

    async def handle(self, inbound: Inbound) -> list[Outbound]:
        return await self.application.handle(inbound)

    async def handle_gated(self, gate: FloodGate, inbound: Inbound) -> list[Outbound]:
        return await self.application.handle_gated(gate, inbound)

    async def handle_mail(self, mail: Mail) -> MailReply:
        return await self.application.handle_mail(mail)

    async def collect_web(self, chat: str) -> list[Outbound]:
        return await self.application.collect_web(chat)

    async def staff_press(self, press: StaffPress) -> str | None:
        return await self.application.staff_press(press)

    async def staff_command(self, typed: StaffCommand) -> list[Outbound] | None:
        return await self.application.staff_command(typed)

    def now(self) -> datetime:
        return self.application.now()
