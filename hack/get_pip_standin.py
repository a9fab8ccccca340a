"""Stand-in for ansible-test's pip bootstrap script, whose download host is unreachable here.

ansible-test runs `python get_pip_<version>.py <pip arguments>` inside a fresh virtualenv;
this does the same with the interpreter's own ensurepip and the package index pip is set up for.
"""

import subprocess
import sys

# get-pip's own options, which pip itself does not know
OWN_OPTIONS = {"--no-setuptools", "--no-wheel"}

subprocess.check_call([sys.executable, "-m", "ensurepip", "--upgrade"])
args = [arg for arg in sys.argv[1:] if arg not in OWN_OPTIONS]
subprocess.check_call([sys.executable, "-m", "pip", "install", *args])
