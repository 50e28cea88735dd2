"""The labs' reference solutions applied to a test's shop: `LabControl`
does what polyshop_dev.labs.control promises, on the shop's own stack, and
undoes it all afterwards, so the next lab meets an untouched shop."""

from __future__ import annotations

import dataclasses
import signal
from pathlib import Path

import requests

from polyshop_dev import faults
from polyshop_dev.labs.shopping import signed_in
from polyshop_dev.labs.where import ShopAddress
from polyshop_dev.pieces import free_port, service_piece
from polyshop_dev.stack import Piece, http_ok
from support import poll
from support.shop import Shop


class LabControl:
    def __init__(self, shop: Shop, address: ShopAddress) -> None:
        self.shop = address
        self._stack = shop.stack
        self._started: dict[str, str] = {}  # host:port → piece name
        self._replaced: dict[str, Piece] = {}  # piece → how it ran before
        self._sessions: list[requests.Session] = []
        self._processes: list[str] = []
        self._faults: set[str] = set()

    def start_instance(self, service: str) -> str:
        port = free_port()
        piece = service_piece(service, port, self.shop.env)
        name = f"{service}-lab-{port}"
        self._stack.start(dataclasses.replace(piece, name=name))
        address = f"127.0.0.1:{port}"
        self._started[address] = name
        return address

    def start_process(
        self, name: str, command: list[str], env: dict[str, str], ready_url: str
    ) -> None:
        piece = Piece(name, command, http_ok(ready_url), env={**self.shop.env, **env})
        self._stack.start(piece)
        self._processes.append(name)

    def turn_fault(self, name: str, on: bool, service: str | None = None) -> None:
        path = Path(self.shop.faults_file)
        if on:
            faults.turn_on(path, name, [service] if service else None)
            self._faults.add(name)
        else:
            faults.turn_off(path, name)

    def stop_instance(self, address: str) -> None:
        self._stack.stop(self._started.pop(address), sig=signal.SIGTERM)

    def restart(self, piece: str, env: dict[str, str]) -> None:
        before = self._stack.running[piece].piece
        self._replaced.setdefault(piece, before)
        self._stack.stop(piece)
        self._stack.start(dataclasses.replace(before, env={**before.env, **env}))

    def wait_registered(self, service: str, count: int) -> None:
        poll(
            lambda: len(self.shop.instances(service)) >= count,
            30,
            interval=0.2,
            what=f"{count} instances of {service} registered",
        )

    def customer(self, username: str = "alice", password: str = "wonderland") -> requests.Session:
        session = signed_in(self.shop, username, password)
        self._sessions.append(session)
        return session

    def undo(self) -> None:
        """Every instance started stopped, every piece restarted as it was."""
        for session in self._sessions:
            session.close()
        for name in self._faults:
            faults.turn_off(Path(self.shop.faults_file), name)
        for address in list(self._started):
            self.stop_instance(address)
        for name in self._processes:
            self._stack.stop(name)
        for name, piece in self._replaced.items():
            self._stack.stop(name)
            self._stack.start(piece)
        if "registry" in self._replaced:  # forgotten instances come back with their next beat
            for service in self.shop.services:
                self.wait_registered(service, 1)
