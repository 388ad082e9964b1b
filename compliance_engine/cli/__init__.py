"""The `compliance` command: a thin layer over the library API (one module per command)."""

from __future__ import annotations

import sys

import click

from .check import check_command
from .diff import diff_command
from .doc import doc_command
from .explain import explain_command
from .fmt import fmt_command
from .graph import graph_command
from .lint import lint_command
from .output import ExitCode
from .run import run_command
from .test import test_command


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="compliance-engine")
def cli() -> None:
    """compliance_engine: check rulebooks, run them over case records, test them."""


cli.add_command(check_command)
cli.add_command(run_command)
cli.add_command(test_command)
cli.add_command(doc_command)
cli.add_command(lint_command)
cli.add_command(diff_command)
cli.add_command(graph_command)
cli.add_command(explain_command)
cli.add_command(fmt_command)


def main() -> None:
    """Entry point: usage errors exit 2 (click), unexpected failures exit 3 with a short message."""
    try:
        cli.main(standalone_mode=False)
    except click.exceptions.Abort:
        sys.exit(ExitCode.USAGE)
    except click.ClickException as err:
        err.show()
        sys.exit(ExitCode.USAGE)
    except SystemExit:
        raise
    except Exception as err:  # a bug of ours: say so, never a traceback for the officer
        click.echo(f"内部错误 (internal error): {err.__class__.__name__}: {err}", err=True)
        click.echo("请把命令和输入文件报告给维护者；设置 COMPLIANCE_DEBUG=1 可看到完整调用栈。", err=True)
        import os

        if os.environ.get("COMPLIANCE_DEBUG"):
            raise
        sys.exit(ExitCode.INTERNAL)
