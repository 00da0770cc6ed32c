"""Amazon States Language: paths, intrinsic functions, Choice rules, validation and the
interpreter."""
