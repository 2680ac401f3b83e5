import importlib.util
import os


class PackageLoader:
    """Finds a package's templates as jinja2's PackageLoader does: through the spec find_spec()
    gives for the package's name, with a default directory name that no module of the package
    spells."""

    def __init__(self, package_name, package_path="templates"):
        spec = importlib.util.find_spec(package_name)
        roots = []
        if spec.submodule_search_locations:
            roots.extend(spec.submodule_search_locations)
        elif spec.origin is not None:
            roots.append(os.path.dirname(spec.origin))
        self.root = None
        for root in roots:
            root = os.path.join(root, package_path)
            if os.path.isdir(root):
                self.root = root
                break
        if self.root is None:
            raise ValueError(f"no {package_path!r} directory in {package_name!r}")

    def names(self):
        return sorted(os.listdir(self.root))


def statics(package, directory="statics"):
    """The files of a package's static directory, found as starlette's StaticFiles(packages=...)."""
    spec = importlib.util.find_spec(package)
    found = os.path.normpath(os.path.join(spec.origin, "..", directory))
    if not os.path.isdir(found):
        raise ValueError(f"no {directory!r} directory in {package!r}")
    return sorted(os.listdir(found))


def package_path(name):
    """The directory of the package ``name``, as confuse finds an app's default configuration:
    its spec's loader's get_filename()."""
    spec = importlib.util.find_spec(name)
    if not spec or (loader := spec.loader) is None:
        return None
    return os.path.dirname(os.path.abspath(loader.get_filename(name)))
