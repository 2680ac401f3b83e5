print("optnative as a module")
