"""Tests of the local package index."""
