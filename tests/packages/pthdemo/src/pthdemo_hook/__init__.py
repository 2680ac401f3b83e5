"""Records what pthdemo.pth ran at start-up."""

STARTED = []


def started(value):
    STARTED.append(value)
