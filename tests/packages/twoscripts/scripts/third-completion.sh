#!/bin/sh
complete -C third third
