import { Context } from "mingo/core";
import * as array from "mingo/operators/query/array";
import * as comparison from "mingo/operators/query/comparison";
import * as element from "mingo/operators/query/element";
import * as logical from "mingo/operators/query/logical";
import { Query } from "mingo/query";
import type { Filter } from "../../../core/store/port";

// MongoDB's query language in JavaScript (mingo), with only the operators the store port
// promises: the full set of mingo operators would add 220 KB to the extension's bundle.
const context = Context.init({ query: { ...comparison, ...element, ...logical, ...array } });

export function compileFilter(filter: Filter): Query {
  return new Query(filter, { context });
}
