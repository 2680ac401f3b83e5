def first():
    print("first")


def second():
    print("second")
