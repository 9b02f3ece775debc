"""Small DMN documents in the dialects the reader must accept (DMN 1.1 QNames, Camunda, any prefix)."""

from __future__ import annotations

MINIMAL = """<?xml version="1.0" encoding="UTF-8"?>
<{p}definitions xmlns{colon}{prefix}="{ns}" id="defs" name="Minimal" namespace="urn:minimal">
  <{p}inputData id="i_age" name=" Age ">
    <{p}variable name="Age" typeRef="number"/>
  </{p}inputData>
  <{p}decision id="d_adult" name="Adult">
    <{p}variable name="Adult" typeRef="boolean"/>
    <{p}informationRequirement><{p}requiredInput href="#i_age"/></{p}informationRequirement>
    <{p}literalExpression><{p}text>  Age &gt;= 18
    </{p}text></{p}literalExpression>
  </{p}decision>
</{p}definitions>
"""


def minimal(namespace: str, prefix: str = "") -> str:
    return MINIMAL.format(p=f"{prefix}:" if prefix else "", colon=":" if prefix else "", prefix=prefix, ns=namespace)


DMN11 = """<?xml version="1.0" encoding="UTF-8"?>
<definitions xmlns="http://www.omg.org/spec/DMN/20151101/dmn.xsd" xmlns:feel="http://www.omg.org/spec/FEEL/20140401"
             xmlns:tns="urn:loans" xmlns:other="urn:rates" id="loans" name="Loans" namespace="urn:loans">
  <import namespace="urn:rates" name="rates" importType="http://www.omg.org/spec/DMN/20151101/dmn.xsd"/>
  <itemDefinition name="tAmount"><typeRef>feel:number</typeRef></itemDefinition>
  <itemDefinition name="tLoan">
    <itemComponent name="amount"><typeRef>tns:tAmount</typeRef></itemComponent>
    <itemComponent name="rate"><typeRef>other:tRate</typeRef></itemComponent>
  </itemDefinition>
  <inputData id="loan" name="Loan"><variable name="Loan" typeRef="tns:tLoan"/></inputData>
  <decision id="approved" name="Approved">
    <variable name="Approved" typeRef="feel:boolean"/>
    <informationRequirement><requiredInput href="#loan"/></informationRequirement>
    <literalExpression><text>Loan.amount &lt; 1000</text></literalExpression>
  </decision>
</definitions>
"""

CAMUNDA = """<?xml version="1.0" encoding="UTF-8"?>
<definitions xmlns="https://www.omg.org/spec/DMN/20191111/MODEL/" xmlns:dmndi="https://www.omg.org/spec/DMN/20191111/DMNDI/"
    xmlns:camunda="http://camunda.org/schema/1.0/dmn" xmlns:modeler="http://camunda.org/schema/modeler/1.0"
    id="dish" name="Dish" namespace="http://camunda.org/schema/1.0/dmn" modeler:executionPlatform="Camunda Cloud">
  <decision id="decide_dish" name="Decide dish" camunda:versionTag="3">
    <decisionTable id="table" hitPolicy="FIRST">
      <input id="season" label="Season" camunda:inputVariable="currentSeason">
        <inputExpression id="e1" typeRef="string"><text>season</text></inputExpression>
        <inputValues><text>"Fall","Winter","Spring","Summer"</text></inputValues>
      </input>
      <input id="guests" label="How many guests">
        <inputExpression id="e2" typeRef="integer"><text>guestCount</text></inputExpression>
      </input>
      <output id="dish_out" label="Dish" name="desiredDish" typeRef="string" />
      <rule id="r1">
        <description>Fall is for roasts</description>
        <inputEntry id="c1"><text><![CDATA["Fall"]]></text></inputEntry>
        <inputEntry id="c2"><text>&lt;= 8</text></inputEntry>
        <outputEntry id="c3"><text>"Spareribs"</text></outputEntry>
      </rule>
      <rule id="r2">
        <inputEntry id="c4"><text></text></inputEntry>
        <inputEntry id="c5"><text>-</text></inputEntry>
        <outputEntry id="c6"><text>"Salad"</text></outputEntry>
      </rule>
    </decisionTable>
  </decision>
  <dmndi:DMNDI><dmndi:DMNDiagram id="d1"><dmndi:DMNShape dmnElementRef="decide_dish"/></dmndi:DMNDiagram></dmndi:DMNDI>
</definitions>
"""
