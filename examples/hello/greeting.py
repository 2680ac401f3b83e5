def hello() -> str:
    return "Hello from one file!"
