Hello, {name}!
