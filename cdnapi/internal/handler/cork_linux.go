package handler

import (
	"syscall"
)

// setCork sets TCP_CORK on the socket.
func setCork(raw syscall.RawConn, on bool) error {
	value := 0
	if on {
		value = 1
	}
	var err error
	if ctrlErr := raw.Control(func(fd uintptr) {
		err = syscall.SetsockoptInt(int(fd), syscall.IPPROTO_TCP, syscall.TCP_CORK, value)
	}); ctrlErr != nil {
		return ctrlErr
	}
	return err
}
