"""What a lab's reference solution may do to a running shop (its
`solution/solve.py` gets one). The labs' end-to-end test implements it on
its own shop (e2e-tests/support/labs.py); a learner does the same by hand."""

from __future__ import annotations

from typing import Protocol

import requests

from polyshop_dev.labs.where import ShopAddress


class Control(Protocol):
    shop: ShopAddress

    def start_instance(self, service: str) -> str:
        """One more instance of `service`, registered; returns its host:port."""
        ...

    def stop_instance(self, address: str) -> None:
        """Stop (SIGTERM) an instance that `start_instance` started."""
        ...

    def start_process(
        self, name: str, command: list[str], env: dict[str, str], ready_url: str
    ) -> None:
        """A process of the solution's own (a new service), run from the
        repository root with the shop's `env` under it and `env` on top,
        until `ready_url` answers 200; stopped when the lab is undone."""
        ...

    def turn_fault(self, name: str, on: bool, service: str | None = None) -> None:
        """A fault switch on or off, as `make fault` does (docs/faults.md)."""
        ...

    def restart(self, piece: str, env: dict[str, str]) -> None:
        """Stop `piece` and start it again with `env` added, until it is ready."""
        ...

    def wait_registered(self, service: str, count: int) -> None:
        """Until the registry lists `count` instances of `service`."""
        ...

    def customer(self, username: str = "alice", password: str = "wonderland") -> requests.Session:
        """A session signed in through the gateway (bearer token set)."""
        ...
