"""Native types outside the cyclic collector: ``_handle.Handle`` writes when freed unless closed
(as a native writer flushes its buffer), ``_plain.Plain`` holds nothing."""
