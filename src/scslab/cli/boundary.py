"""The one place where the command line meets every failure.

Whatever happens inside a command, the user gets one short answer and an exit code, never
a traceback (unless they ask for it with ``SCSLAB_DEBUG=1``):

* a user error (``ScslabError``): ``error: ...``, exit 2 (3 for a broken invariant);
* Ctrl-C: ``interrupted; resume with `scslab run --resume DIR``` when a checkpoint was
  left to resume from, exit 130;
* any ``OSError`` (a full disk, no permission, a name too long): ``error: PATH: why``,
  exit 2; out of memory: exit 2 with advice;
* a closed pipe (``scslab ... | head``): exit quietly;
* anything else is a bug: a short "this is a bug in scslab, please report it" with the
  error, exit 3.
"""

from __future__ import annotations

import errno
import os
import shlex
import sys
import traceback
from collections.abc import Callable
from typing import NoReturn

import typer

from scslab.cli.common import resumable_target
from scslab.errors import ScslabError
from scslab.outputs.checkpoint import checkpoint_path

DEBUG_ENV = "SCSLAB_DEBUG"
EXIT_INTERRUPTED = 130
EXIT_BUG = 3


def debugging() -> bool:
    """True when the user asked for tracebacks (``SCSLAB_DEBUG=1``)."""
    return os.environ.get(DEBUG_ENV, "").strip().lower() not in ("", "0", "no", "off", "false")


def _say(text: str) -> None:
    try:
        sys.stderr.write(text.rstrip("\n") + "\n")
        sys.stderr.flush()
    except (OSError, ValueError):
        pass


def _interrupted() -> NoReturn:
    target = resumable_target()
    if target is not None and (
            (checkpoint_path(target) / "checkpoint.json").is_file()
            or (target / "batch.json").is_file()):
        _say(f"interrupted; resume with `scslab run --resume {shlex.quote(str(target))}`")
    elif target is not None:
        _say("interrupted before the run started; nothing was written")
    else:
        _say("interrupted")
    # a write cut short (a shard's checkpoint file being zipped, say) leaves objects whose
    # clean-up at exit can only complain about the closed file: the interrupt is the answer
    sys.unraisablehook = lambda unraisable: None
    sys.exit(EXIT_INTERRUPTED)


def _os_error(e: OSError) -> str:
    where = e.filename if e.filename is not None else ""
    why = e.strerror or str(e)
    if e.errno == errno.ENOSPC:
        why = "the disk is full"
    elif e.errno == errno.ENAMETOOLONG:
        why = "a file name is too long for the file system"
    elif e.errno in (errno.EACCES, errno.EPERM):
        why = f"no permission ({e.strerror})"
    elif e.errno == errno.EROFS:
        why = "the file system is read-only"
    return f"{where}: {why}" if where else why


def _caused_by_interrupt(e: BaseException) -> bool:
    """True when a KeyboardInterrupt is in ``e``'s chain of causes."""
    seen = set()
    while e is not None and id(e) not in seen:
        if isinstance(e, KeyboardInterrupt):
            return True
        seen.add(id(e))
        e = e.__cause__ or e.__context__
    return False


def run_at_boundary(command: Callable[[], object]) -> NoReturn:
    """Run ``command`` (a click main in non-standalone mode) and exit with one clear
    answer, whatever it raises (see the module docstring)."""
    try:
        rv = command()
    except KeyboardInterrupt:
        _interrupted()
    except typer.Abort as e:
        if isinstance(e.__cause__ or e.__context__, KeyboardInterrupt):
            _interrupted()
        _say("aborted")
        sys.exit(1)
    except typer.Exit as e:  # pragma: no cover - typer returns these as codes
        sys.exit(e.exit_code)
    except typer.TyperException as e:  # a usage error: the command line itself is wrong
        show = getattr(e, "show", None)
        if show is not None:
            show()
        else:  # pragma: no cover
            _say(f"error: {e.format_message()}")
        sys.exit(e.exit_code)
    except SystemExit:
        raise
    except ScslabError as e:
        if debugging():
            traceback.print_exc()
        _say(f"error: {e}")
        sys.exit(e.exit_code)
    except BrokenPipeError:
        # the reader went away (``| head``): say nothing more, and let no flush complain
        try:
            sys.stdout = open(os.devnull, "w")
        except OSError:
            pass
        sys.exit(1)
    except OSError as e:
        if debugging():
            traceback.print_exc()
        _say(f"error: {_os_error(e)}")
        sys.exit(2)
    except MemoryError:
        _say("error: out of memory; make the run smaller (--residents or --scale, or more "
             "units with --set population.units=N) or free memory")
        sys.exit(2)
    except Exception as e:
        if _caused_by_interrupt(e):
            # Ctrl-C while compiled code ran on this thread: Python reports the pending
            # KeyboardInterrupt as the cause of a SystemError when that code returns
            _interrupted()
        if debugging():
            traceback.print_exc()
        else:
            _say(f"error: this is a bug in scslab, please report it with the command and the "
                 f"scenario: {type(e).__name__}: {str(e)[:300]}\n"
                 f"(run again with {DEBUG_ENV}=1 to see where it happened)")
        sys.exit(EXIT_BUG)
    if rv == EXIT_INTERRUPTED:  # typer turns Ctrl-C into this exit code, silently
        _interrupted()
    sys.exit(rv if isinstance(rv, int) and not isinstance(rv, bool) else 0)
