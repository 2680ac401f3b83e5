def hello():
    return "tiny says hello"


def main():
    print(hello())
