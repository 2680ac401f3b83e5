"""Lists a template's files the way django's startproject finds them: through the top-level
package's __path__, with a name computed at run time."""

import os

import tplpkg


def template_files(kind):
    root = os.path.join(tplpkg.__path__[0], "conf", "%s_template" % kind)
    return sorted(os.path.relpath(os.path.join(d, f), root) for d, _, fs in os.walk(root) for f in fs)


def manage_template():
    with open(os.path.join(tplpkg.HERE, "conf", "project_template", "manage.py-tpl")) as f:
        return f.read().strip()
