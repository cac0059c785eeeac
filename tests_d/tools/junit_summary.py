#!/usr/bin/env python3
"""Read a JUnit XML report with an independent parser (junitparser) and print its counts as
`N passed, N failed, N skipped` (then `, N flaky` when passed cases carry `flakyFailure` or
`flakyError` attempts). With a second argument, fail unless that equals the expected line (for
example the last line `gflab test` printed; the flaky cases' list in parentheses is left out).

usage: junit_summary.py REPORT.xml ["N passed, N failed, N skipped"]
"""
import re
import sys

from junitparser import Error, Failure, JUnitXml, Skipped


def summary(path):
    report = JUnitXml.fromfile(path)
    suites = [report] if report._tag == "testsuite" else list(report)
    passed = failed = skipped = flaky = 0
    for suite in suites:
        for case in suite:
            kinds = {type(r) for r in case.result}
            if Failure in kinds or Error in kinds:
                failed += 1
            elif Skipped in kinds:
                skipped += 1
            else:
                passed += 1
                # junitparser does not model surefire's rerun elements: read them from the XML.
                if any(child.tag in ("flakyFailure", "flakyError") for child in case._elem):
                    flaky += 1
    line = f"{passed} passed, {failed} failed, {skipped} skipped"
    return line + (f", {flaky} flaky" if flaky else "")


def main():
    if len(sys.argv) not in (2, 3):
        sys.exit(__doc__)
    line = summary(sys.argv[1])
    print(line)
    expected = re.sub(r" \(.*\)$", "", sys.argv[2].strip()) if len(sys.argv) == 3 else line
    if line != expected:
        sys.exit(f"error: JUnit report {sys.argv[1]} says {line!r}, the run said {sys.argv[2].strip()!r}")


if __name__ == "__main__":
    main()
