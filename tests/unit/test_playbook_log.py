"""Reading ansible-playbook's streamed output: task timings and the failure line a failed
deploy reports."""

from __future__ import annotations

from lab.playbook_log import REASON_CHARS, PlaybookLog, reason

CENSORED = (
    '{"censored": "the output has been hidden due to the fact that \'no_log: true\' was '
    'specified for this result", "changed": true}'
)
OUTPUT = f"""
PLAY [Deploy the LVS-DR cluster] ***********************************************

TASK [Gathering Facts] *********************************************************
ok: [node1]

TASK [Run pcsd] ****************************************************************
changed: [node1]

TASK [Authenticate the nodes to each other] ************************************
FAILED - RETRYING: [node1]: Authenticate the nodes to each other (3 retries left).
fatal: [node1]: FAILED! => {CENSORED}

PLAY RECAP *********************************************************************
node1                      : ok=2    changed=1    unreachable=0    failed=1    skipped=0
"""


def fed(text: str, step: float = 1.0) -> PlaybookLog:
    log = PlaybookLog()
    for i, line in enumerate(text.splitlines(keepends=True)):
        log.feed(line, i * step)
    return log


def test_a_failure_is_reported_with_its_task_and_reason() -> None:
    log = fed(OUTPUT)
    summary = log.failure_summary()
    assert summary.startswith("in task [Authenticate the nodes to each other]: node1: ")
    assert "no_log" in summary
    assert "FAILED - RETRYING" not in summary


def test_task_durations_run_from_each_task_header_to_the_next() -> None:
    log = fed(OUTPUT)
    durations = dict(log.durations(ended_at=20.0))
    assert list(durations) == [
        "Gathering Facts",
        "Run pcsd",
        "Authenticate the nodes to each other",
    ]
    assert durations == {
        "Gathering Facts": 3.0,
        "Run pcsd": 3.0,
        "Authenticate the nodes to each other": 11.0,
    }
    assert log.slowest(20.0, count=1) == [("Authenticate the nodes to each other", 11.0)]


def test_the_recap_is_kept_and_not_read_as_tasks() -> None:
    log = fed(OUTPUT)
    assert log.recap[0].startswith("PLAY RECAP")
    assert "failed=1" in log.recap[1]


def test_failures_of_loop_items_and_several_hosts_of_the_first_failed_task() -> None:
    text = (
        "TASK [Run cluster services] ***\n"
        "failed: [node2] (item=corosync) => "
        '{"ansible_loop_var": "item", "msg": "Unable to start service corosync"}\n'
        "fatal: [node3]: UNREACHABLE! => "
        '{"changed": false, "msg": "Data could not be sent", "unreachable": true}\n'
        "TASK [Later] ***\n"
        'fatal: [node1]: FAILED! => {"msg": "later"}\n'
    )
    summary = fed(text).failure_summary()
    assert summary == (
        "in task [Run cluster services]: node2: Unable to start service corosync; "
        "node3: Data could not be sent"
    )


def test_an_ignored_failure_is_not_a_failure() -> None:
    text = 'TASK [Probe] ***\nfatal: [node1]: FAILED! => {"msg": "no"}\n...ignoring\n'
    assert fed(text).failure_summary() == ""


def test_reason_prefers_msg_then_stderr_and_stays_short() -> None:
    assert reason('{"msg": "", "stderr": "pcs: timeout", "rc": 1}') == "pcs: timeout"
    module_failure = '{"msg": "MODULE FAILURE", "module_stderr": "python3: not found", "rc": 127}'
    assert reason(module_failure) == "MODULE FAILURE | python3: not found"
    assert reason("not json at all") == "not json at all"
    long = reason('{"msg": "%s"}' % ("x" * 1000))
    assert len(long) == REASON_CHARS and long.endswith("...")
    assert reason('{"msg": "two\\n  lines"}') == "two lines"


def test_a_loop_failure_reported_per_item_and_for_the_task_is_named_once() -> None:
    text = (
        "TASK [Loop] ***\n"
        'failed: [node1] (item=None) => {"msg": "no"}\n'
        'fatal: [node1]: FAILED! => {"msg": "no"}\n'
    )
    assert fed(text).failure_summary() == "in task [Loop]: node1: no"
