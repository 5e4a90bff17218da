//go:build !unix

package main

func umask(int) {}
