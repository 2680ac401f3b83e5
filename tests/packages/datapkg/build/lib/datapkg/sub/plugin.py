def hello():
    return "plugin says hello"
