"""A cleaning helper process of an import (`cleaners.CleaningPool` starts it): Django, then
`cleaners.serve` on stdin and stdout."""

import os
import sys

import django

if __name__ == "__main__":
    # The results go to the original stdout; anything else printed goes to stderr, so a stray
    # print or warning cannot corrupt the stream.
    results = os.fdopen(os.dup(sys.stdout.fileno()), "wb")
    os.dup2(sys.stderr.fileno(), sys.stdout.fileno())
    django.setup()
    from apps.contacts.importing.cleaners import serve

    serve(sys.stdin.buffer, results)
