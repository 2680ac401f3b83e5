def hello():
    return "extra says hello"
