"""On a failure, the output of every example the test started (the
``serve`` fixture of test_examples.py) is attached to the report."""

import pytest


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    if report.passed or report.skipped:
        return
    serve = getattr(item, 'funcargs', {}).get('serve')
    for server in getattr(serve, 'started', ()):
        report.sections.append(('example %s output' % server.example,
                                server.output()[-4000:]))
