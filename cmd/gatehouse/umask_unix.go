//go:build unix

package main

import "syscall"

func umask(mask int) { syscall.Umask(mask) }
