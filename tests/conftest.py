"""Test setup: no test may reach a network; shared loaded models."""

from __future__ import annotations

import os
import socket

import pytest

os.environ["HF_HUB_OFFLINE"] = "1"
os.environ["TRANSFORMERS_OFFLINE"] = "1"
os.environ["HF_DATASETS_OFFLINE"] = "1"
os.environ.setdefault("INSPECT_DISPLAY", "none")

_real_connect = socket.socket.connect


def _local_only_connect(self: socket.socket, address) -> None:  # type: ignore[no-untyped-def]
    host = address[0] if isinstance(address, tuple) else address
    if self.family == socket.AF_UNIX or host in ("127.0.0.1", "::1", "localhost"):
        return _real_connect(self, address)
    raise RuntimeError(f"test tried to reach the network: {address!r}")


@pytest.fixture(autouse=True)
def no_network(monkeypatch: pytest.MonkeyPatch) -> None:
    """Any non-loopback connection fails the test."""
    monkeypatch.setattr(socket.socket, "connect", _local_only_connect)


@pytest.fixture(scope="session")
def llama_engine():  # type: ignore[no-untyped-def]
    from antischeme.models import embedded_model_path, load_engine

    return load_engine(model_path=embedded_model_path(), backend="llama")


@pytest.fixture(scope="session")
def transformers_engine():  # type: ignore[no-untyped-def]
    from antischeme.models import embedded_model_path, load_engine

    return load_engine(model_path=embedded_model_path(), backend="transformers")
