//go:build !linux

package handler

import (
	"errors"
	"syscall"
)

// setCork is Linux's TCP_CORK; elsewhere it reports that corking is not available.
func setCork(syscall.RawConn, bool) error { return errors.ErrUnsupported }
