import importlib.metadata
import sys


def main() -> int:
    version = importlib.metadata.version("myproject")
    pyflakes = importlib.metadata.version("pyflakes")
    print(f"myapp {version} (pyflakes {pyflakes}) args={sys.argv[1:]}")
    if "--where" in sys.argv:
        # as coverage's `run` does: the console script's directory gives way to another
        print(sys.path[0], sys.flags.safe_path)
        sys.path[0] = "/nonexistent"
        import colorsys

        print(colorsys.__name__)
    if "--fail" in sys.argv:
        return 3
    return 0
