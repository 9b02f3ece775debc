"""The ceiling the service's figures are read against: a bare FastAPI endpoint on the same stack.

One POST route validating a 5-field JSON body with pydantic and answering a small JSON object;
no database, no auth, no model. It is served exactly as `decisionary serve` serves the
service (uvicorn's Multiprocess supervisor over api.server's listening socket, N workers), so
the ratio of the two throughputs is the share of the HTTP stack's capacity the service keeps.

    python -m benchmarks.service_ceiling --port 8123 --workers 2
"""

from __future__ import annotations

import argparse
import contextlib
import sys
from pathlib import Path
from typing import Literal

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # run as a script: make the repository importable
    sys.path.insert(0, str(ROOT))

from fastapi import FastAPI  # noqa: E402
from pydantic import BaseModel, Field  # noqa: E402

PATH = "/evaluate"
APP = "benchmarks.service_ceiling:create_app"


class Applicant(BaseModel):
    age: int = Field(ge=18, le=120)
    income: float = Field(ge=0)
    debt: float = Field(ge=0)
    credit_score: int = Field(ge=300, le=850)
    employment: Literal["Employed", "Self-employed", "Unemployed", "Retired"]


def create_app() -> FastAPI:
    app = FastAPI(title="ceiling", docs_url=None, redoc_url=None, openapi_url=None)

    @app.get("/healthz")
    def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @app.post(PATH)
    def evaluate(applicant: Applicant) -> dict[str, object]:
        return {"ok": True, "age": applicant.age}

    return app


def serve(port: int, workers: int) -> None:
    import uvicorn
    from uvicorn.supervisors import Multiprocess

    from api.server import listening_socket

    config = uvicorn.Config(APP, factory=True, host="127.0.0.1", port=port, workers=workers, log_level="info",
                            access_log=False)
    with contextlib.suppress(KeyboardInterrupt):
        if workers > 1:
            Multiprocess(config, sockets=[listening_socket("127.0.0.1", port)]).run()
        else:
            uvicorn.Server(config).run(sockets=[listening_socket("127.0.0.1", port)])


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args(argv)
    serve(args.port, args.workers)


if __name__ == "__main__":
    main()
