//! Placeholder until this family is written.

crate::msg::placeholder!(GetAddr = GetAddr);
crate::msg::placeholder!(GetCFTypes = GetCFTypes);
crate::msg::placeholder!(GetMiningState = GetMiningState);
crate::msg::placeholder!(MemPool = MemPool);
crate::msg::placeholder!(SendHeaders = SendHeaders);
crate::msg::placeholder!(VerAck = VerAck);
