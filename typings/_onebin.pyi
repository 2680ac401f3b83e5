# The launcher's built-in module (src/onebin/launcher/launcher.c), as the runtime sees it.
executable: str
payload: memoryview
payload_offset: int
index_offset: int
index_size: int

def dlopen(path: str, global_: bool = ..., /) -> int: ...
def check(offset: int, size: int, crc32: int, name: str, /) -> None: ...
def crc32(data: bytes | memoryview, /) -> int: ...
