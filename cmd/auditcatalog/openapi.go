package main

func importOpenAPI(spec string, opt importOptions) *imported { return nil }
