import importlib.metadata
import sys


def main() -> int:
    version = importlib.metadata.version("myproject")
    pyflakes = importlib.metadata.version("pyflakes")
    print(f"myapp {version} (pyflakes {pyflakes}) args={sys.argv[1:]}")
    if "--fail" in sys.argv:
        return 3
    return 0
